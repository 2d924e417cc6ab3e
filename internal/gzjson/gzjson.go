// Package gzjson writes and reads gzipped JSON within a size bound, as the operator keeps state
// on Lease annotations (the alerts set aside, the exceptions judged Active): what does not fit is
// left out, the most that fit kept.
package gzjson

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
)

// Encode is v as gzipped JSON.
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads into v what Encode wrote, decompressing at most limit bytes (a value written by
// someone else must not take the reader's memory).
func Decode(data []byte, limit int64, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return json.NewDecoder(io.LimitReader(zr, limit)).Decode(v)
}

// MostThatFit is the largest k in [0, n) for which fits(k) holds, by bisection, given that
// fits(0) holds and fits(n) does not; an error from fits ends the search.
func MostThatFit(n int, fits func(k int) (bool, error)) (int, error) {
	lo, hi := 0, n
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := fits(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
