package journal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strconv"
	"time"
)

// Format is the journal format named in every segment header.
const Format = "soc2-operator-journal/v1"

// Header is the first line of a segment.
type Header struct {
	Format  string `json:"format"`
	Cluster string `json:"cluster"`
	// Seq numbers the segments of a cluster from 1, without gaps.
	Seq uint64 `json:"seq"`
	// Prev is the SHA-256 of the previous segment's stored bytes ("" for the first).
	Prev string `json:"prev"`
	// First and Last are the earliest and latest record times in the segment.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Records is the number of record lines.
	Records int `json:"records"`
	// RecordsSHA256 is the SHA-256 of the record lines (each with its newline) after the header.
	RecordsSHA256 string `json:"recordsSHA256"`
	// Batch is, on each segment of a batch the writer split (more records than
	// MaxSegmentRecords, or written in more than one attempt), the ID of the batch's first
	// record; Continues is set on each of them but the last: the batch goes on in a later
	// segment, not always the next (another writer's may come between, two leaders briefly).
	// Absent from segments of a batch written whole, and from journals written before December
	// 2026 (a full segment is then read as one a batch may go on from). A segment that continues
	// with no later segment of its batch in the chain is a batch that never ended (a writer
	// that stopped mid-batch): verification names it, ProblemUnended.
	Batch     string `json:"batch,omitempty"`
	Continues bool   `json:"continues,omitempty"`
}

const timeLayout = "20060102T150405.000Z"

var segmentName = regexp.MustCompile(`^(\d{12})_(\d{8}T\d{6}\.\d{3}Z)_(\d{8}T\d{6}\.\d{3}Z)\.jsonl\.gz$`)

// SegmentName is the object name of a segment: its sequence number and time range, so a reader
// picks the segments of a window from a listing alone.
func SegmentName(seq uint64, first, last time.Time) string {
	return fmt.Sprintf("%012d_%s_%s.jsonl.gz", seq, first.UTC().Format(timeLayout), last.UTC().Format(timeLayout))
}

// SegmentRef is a segment known from its name.
type SegmentRef struct {
	Key   string
	Name  string
	Seq   uint64
	First time.Time
	Last  time.Time
}

// parseSegmentName reads a segment's sequence number and time range from its name.
func parseSegmentName(name string) (SegmentRef, bool) {
	m := segmentName.FindStringSubmatch(name)
	if m == nil {
		return SegmentRef{}, false
	}
	seq, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return SegmentRef{}, false
	}
	first, err1 := time.Parse(timeLayout, m[2])
	last, err2 := time.Parse(timeLayout, m[3])
	if err1 != nil || err2 != nil {
		return SegmentRef{}, false
	}
	return SegmentRef{Name: name, Seq: seq, First: first, Last: last}, true
}

// encodeSegment writes sealed records (in time order) as a segment after prev, and returns its
// bytes and header. The gzip stream has no name or time, so the bytes depend on the records only.
func encodeSegment(cluster string, seq uint64, prev string, records []Record) ([]byte, Header, error) {
	return encodeBatchSegment(cluster, seq, prev, records, "", false)
}

// encodeBatchSegment is encodeSegment for a segment of a split batch (Header.Batch, Continues).
func encodeBatchSegment(cluster string, seq uint64, prev string, records []Record, batch string, continues bool) ([]byte, Header, error) {
	if len(records) == 0 {
		return nil, Header{}, errors.New("a segment needs at least one record")
	}
	var body bytes.Buffer
	for i := range records {
		b, err := json.Marshal(&records[i])
		if err != nil {
			return nil, Header{}, fmt.Errorf("encoding record %s: %w", records[i].ID, err)
		}
		body.Write(b)
		body.WriteByte('\n')
	}
	sum := sha256.Sum256(body.Bytes())
	h := Header{
		Format: Format, Cluster: cluster, Seq: seq, Prev: prev,
		First: records[0].Time, Last: records[len(records)-1].Time,
		Records: len(records), RecordsSHA256: hex.EncodeToString(sum[:]),
		Batch: batch, Continues: continues,
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, Header{}, fmt.Errorf("encoding segment header: %w", err)
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, Header{}, err
	}
	zw.Write(hb)
	zw.Write([]byte{'\n'})
	zw.Write(body.Bytes())
	if err := zw.Close(); err != nil {
		return nil, Header{}, fmt.Errorf("compressing segment: %w", err)
	}
	return out.Bytes(), h, nil
}

// Digest is the hex SHA-256 of a segment's stored bytes.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// segmentReader streams one segment: the header, then records line by line, hashing the stored
// bytes and the record lines as it goes, so a reader verifies in the same pass it reads.
type segmentReader struct {
	stored  hash.Hash
	body    hash.Hash
	src     io.Reader
	zr      *gzip.Reader
	br      *bufio.Reader
	header  Header
	records int
	line    int
	// long holds a line longer than br's buffer, reused from line to line: a line returned is
	// only valid until the next is read.
	long []byte
}

func newSegmentReader(r io.Reader) (*segmentReader, error) {
	s := &segmentReader{stored: sha256.New(), body: sha256.New()}
	s.src = io.TeeReader(r, s.stored)
	zr, err := gzip.NewReader(s.src)
	if err != nil {
		return nil, fmt.Errorf("not a gzip stream: %w", err)
	}
	zr.Multistream(false)
	s.zr = zr
	s.br = bufio.NewReaderSize(zr, 64<<10)
	line, err := s.readLine()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if err := json.Unmarshal(line, &s.header); err != nil {
		return nil, fmt.Errorf("line 1: the header is not valid JSON: %w", err)
	}
	if s.header.Format != Format {
		return nil, fmt.Errorf("line 1: format %q, want %q", s.header.Format, Format)
	}
	return s, nil
}

// readLine returns the next line without its newline; it is only valid until the next read.
func (s *segmentReader) readLine() ([]byte, error) {
	s.line++
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.br.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if err == io.EOF && len(line) > 0 {
		return nil, fmt.Errorf("line %d: truncated (no newline)", s.line)
	}
	if err != nil {
		return nil, err
	}
	return line[:len(line)-1], nil
}

// next returns the next record line (without its newline), or io.EOF after the last.
func (s *segmentReader) next() ([]byte, error) {
	line, err := s.readLine()
	if err != nil {
		return nil, err
	}
	s.body.Write(line)
	s.body.Write([]byte{'\n'})
	s.records++
	return line, nil
}

// finish drains the stream and returns the digest of the stored bytes and of the record lines.
func (s *segmentReader) finish() (stored, body string, err error) {
	if _, err := io.Copy(io.Discard, s.src); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(s.stored.Sum(nil)), hex.EncodeToString(s.body.Sum(nil)), nil
}
