package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Store keeps objects in an S3-compatible bucket (AWS S3, GCS interoperability, Ceph RGW,
// MinIO, versitygw) through the AWS SDK for Go v2, with credentials from the SDK's standard
// chain: environment, shared config, web identity (IRSA), EKS pod identity, instance role.
//
// Segments are created with If-None-Match: * (never overwritten), and, when a lock mode is
// set, with an Object Lock retention (governance or compliance) so the bucket keeps every
// segment version for the retention period: the journal is WORM.
type S3Store struct {
	client   *s3.Client
	bucket   string
	prefix   string
	lockMode s3types.ObjectLockMode
	retain   time.Duration
	now      func() time.Time
	display  string
}

// S3Options configure an S3Store.
type S3Options struct {
	Bucket string
	// Prefix is prepended to every key ("" or ending in "/").
	Prefix string
	// Region and Endpoint (for S3-compatible stores; empty for AWS).
	Region, Endpoint string
	// PathStyle addresses the bucket in the path, as most S3-compatible stores need.
	PathStyle bool
	// LockMode is "", "governance" or "compliance"; Retain is how long each segment is locked.
	LockMode string
	Retain   time.Duration
}

// openS3Store reads s3://bucket/prefix?region=&endpoint=&path-style=&lock-mode=&retain-days=.
func openS3Store(ctx context.Context, u *url.URL) (Store, error) {
	q := u.Query()
	opts := S3Options{
		Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/"),
		Region: q.Get("region"), Endpoint: q.Get("endpoint"), LockMode: q.Get("lock-mode"),
	}
	for k := range q {
		switch k {
		case "region", "endpoint", "path-style", "lock-mode", "retain-days":
		default:
			return nil, fmt.Errorf("journal store %s: unknown parameter %q (region, endpoint, path-style, lock-mode, retain-days)", u.Redacted(), k)
		}
	}
	if v := q.Get("path-style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("journal store %s: path-style=%q is not true or false", u.Redacted(), v)
		}
		opts.PathStyle = b
	}
	if v := q.Get("retain-days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("journal store %s: retain-days=%q is not a positive number of days", u.Redacted(), v)
		}
		opts.Retain = time.Duration(n) * 24 * time.Hour
	}
	return NewS3Store(ctx, opts)
}

// NewS3Store opens a bucket with the standard AWS credential chain.
func NewS3Store(ctx context.Context, opts S3Options) (*S3Store, error) {
	if opts.Bucket == "" {
		return nil, errors.New("s3 store: no bucket (s3://BUCKET/prefix)")
	}
	if opts.Prefix != "" && !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	var mode s3types.ObjectLockMode
	switch strings.ToLower(opts.LockMode) {
	case "":
		if opts.Retain > 0 {
			return nil, errors.New("s3 store: retain-days needs lock-mode=governance or lock-mode=compliance")
		}
	case "governance":
		mode = s3types.ObjectLockModeGovernance
	case "compliance":
		mode = s3types.ObjectLockModeCompliance
	default:
		return nil, fmt.Errorf("s3 store: lock-mode=%q: want governance or compliance", opts.LockMode)
	}
	if mode != "" && opts.Retain <= 0 {
		return nil, fmt.Errorf("s3 store: lock-mode=%s needs retain-days", opts.LockMode)
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3 store: loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
	})
	display := "s3://" + opts.Bucket + "/" + opts.Prefix
	if opts.Endpoint != "" {
		display += " at " + opts.Endpoint
	}
	return &S3Store{client: client, bucket: opts.Bucket, prefix: opts.Prefix, lockMode: mode, retain: opts.Retain, now: time.Now, display: display}, nil
}

func (s *S3Store) String() string { return s.display }

// Put creates an object, never replacing one (If-None-Match: *), with a retention when a lock
// mode is set.
func (s *S3Store) Put(ctx context.Context, key string, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(s.prefix + key),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		IfNoneMatch:       aws.String("*"),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
	}
	if strings.HasSuffix(key, ".gz") {
		in.ContentType = aws.String("application/gzip")
	}
	if s.lockMode != "" {
		in.ObjectLockMode = s.lockMode
		in.ObjectLockRetainUntilDate = aws.Time(s.now().Add(s.retain).UTC().Truncate(time.Second))
	}
	_, err := s.client.PutObject(ctx, in)
	if err != nil {
		if status(err) == http.StatusPreconditionFailed || code(err) == "PreconditionFailed" || status(err) == http.StatusConflict {
			return fmt.Errorf("s3 store: %s: %w", key, ErrExists)
		}
		return fmt.Errorf("s3 store %s: writing %s: %w", s, key, err)
	}
	return nil
}

// Get opens an object.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		var nsk *s3types.NoSuchKey
		if errors.As(err, &nsk) || status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("s3 store: %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("s3 store %s: reading %s: %w", s, key, err)
	}
	return out.Body, nil
}

// List returns the keys under prefix, sorted (S3 lists in UTF-8 binary order).
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 store %s: listing %s: %w", s, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	return keys, nil
}

// ListModTimes returns when the current version of each object under prefix was stored
// (LastModified, the server's clock), by key: what a listing returns anyway.
func (s *S3Store) ListModTimes(ctx context.Context, prefix string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 store %s: listing %s: %w", s, prefix, err)
		}
		for _, o := range page.Contents {
			if o.LastModified != nil {
				out[strings.TrimPrefix(aws.ToString(o.Key), s.prefix)] = *o.LastModified
			}
		}
	}
	return out, nil
}

// ListHidden returns the keys under prefix whose latest version is a delete marker: a DELETE
// without a version ID, which Object Lock allows, hides an object's locked versions from
// listings and reads without removing them. It needs s3:ListBucketVersions.
func (s *S3Store) ListHidden(ctx context.Context, prefix string) ([]string, error) {
	hidden, _, err := s.versions(ctx, prefix)
	return hidden, err
}

// ListReplaced returns the keys under prefix that hold more than one object version: a PUT
// without If-None-Match, which Object Lock allows, adds a version over a locked one, and reads
// return it instead. The store never writes a key twice. It needs s3:ListBucketVersions.
func (s *S3Store) ListReplaced(ctx context.Context, prefix string) ([]string, error) {
	_, replaced, err := s.versions(ctx, prefix)
	return replaced, err
}

// versions lists every version under prefix: the keys whose latest version is a delete marker,
// and those with more than one object version, each sorted.
func (s *S3Store) versions(ctx context.Context, prefix string) (hidden, replaced []string, err error) {
	count := map[string]int{}
	// A page may begin with the version the one before ended with (versitygw does, at the key
	// marker): a version is counted once, by its key and version ID ("null" for an object written
	// where versioning is off). Versions are listed by key, then version, so a repeat follows
	// what it repeats.
	var lastKey, lastID string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix)}
	for {
		out, err := s.client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("s3 store %s: listing the versions under %s: %w", s, prefix, err)
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToBool(m.IsLatest) {
				hidden = append(hidden, strings.TrimPrefix(aws.ToString(m.Key), s.prefix))
			}
		}
		for _, v := range out.Versions {
			k, id := strings.TrimPrefix(aws.ToString(v.Key), s.prefix), aws.ToString(v.VersionId)
			if k == lastKey && id == lastID {
				continue
			}
			lastKey, lastID = k, id
			count[k]++
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	for k, n := range count {
		if n > 1 {
			replaced = append(replaced, k)
		}
	}
	slices.Sort(hidden)
	hidden = slices.Compact(hidden)
	slices.Sort(replaced)
	return hidden, replaced, nil
}

// Retention returns the Object Lock mode and retain-until date of key's current version ("" and
// zero when it has none). It needs s3:GetObjectRetention.
func (s *S3Store) Retention(ctx context.Context, key string) (string, time.Time, error) {
	out, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	switch {
	case err != nil && (code(err) == "NoSuchObjectLockConfiguration" || code(err) == "ObjectLockConfigurationNotFoundError" ||
		// A bucket without Object Lock (AWS and versitygw alike: "Bucket is missing Object Lock
		// Configuration").
		code(err) == "InvalidRequest" && strings.Contains(err.Error(), "Object Lock")):
		return "", time.Time{}, nil
	case err != nil:
		return "", time.Time{}, fmt.Errorf("s3 store %s: reading the retention of %s: %w", s, key, err)
	case out.Retention == nil:
		return "", time.Time{}, nil
	}
	return string(out.Retention.Mode), aws.ToTime(out.Retention.RetainUntilDate), nil
}

// Delete removes the current version of an object and every older version (tests only: it
// shows that Object Lock refuses it).
func (s *S3Store) Delete(ctx context.Context, key string) error {
	vs, err := s.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + key)})
	if err != nil {
		return fmt.Errorf("s3 store %s: listing versions of %s: %w", s, key, err)
	}
	for _, v := range vs.Versions {
		if aws.ToString(v.Key) != s.prefix+key {
			continue
		}
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: v.Key, VersionId: v.VersionId}); err != nil {
			return fmt.Errorf("s3 store %s: deleting %s version %s: %w", s, key, aws.ToString(v.VersionId), err)
		}
	}
	return nil
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
