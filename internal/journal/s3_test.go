package journal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// gwRoots holds each versitygw's posix root directory, by endpoint: a test sets the times of
// the files there, which the server reports as the objects' LastModified.
var gwRoots sync.Map

// versityGW starts a real S3-compatible server (versitygw, posix backend with versioning, so
// Object Lock works) on 127.0.0.1 for the test and returns its endpoint. The binary comes from
// $SOC2_VERSITYGW or hack/tool.sh versitygw, which builds it once from the Go module proxy.
func versityGW(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SOC2_VERSITYGW")
	if bin == "" {
		out, err := exec.Command("../../hack/tool.sh", "versitygw").Output()
		if err != nil {
			t.Fatalf("hack/tool.sh versitygw: %v", err)
		}
		bin = strings.TrimSpace(string(out))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root, versions := t.TempDir(), t.TempDir()
	gwRoots.Store("http://"+addr, root)
	cmd := exec.Command(bin, "--access", "journal-test", "--secret", "journal-test-secret", "--region", "us-east-1",
		"--port", addr, "--quiet", "posix", "--versioning-dir", versions, root)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	// The standard AWS credential chain reads these (the operator's pods use IRSA or pod
	// identity instead).
	t.Setenv("AWS_ACCESS_KEY_ID", "journal-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "journal-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	if err := testenv.WaitListening(addr, 30*time.Second); err != nil {
		log, _ := os.ReadFile(logFile.Name())
		t.Fatalf("versitygw: %v\n%s", err, log)
	}
	return "http://" + addr
}

// bucket creates a bucket (with Object Lock enabled when lock is set) and opens a store on it.
func bucket(t *testing.T, endpoint, name string, lock bool, query string) *S3Store {
	t.Helper()
	u := fmt.Sprintf("s3://%s/journals?endpoint=%s&path-style=true&region=us-east-1%s", name, endpoint, query)
	st, err := OpenStore(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*S3Store)
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(lock)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return s
}

func TestTheS3Store(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()

	t.Run("writes, reads and verifies a signed chain", func(t *testing.T) {
		store := bucket(t, endpoint, "plain", false, "")
		key := newKey(t)
		for _, cluster := range []string{"eu-1", "us-1"} {
			writeDaysTo(t, store, cluster, 4, key)
		}
		clusters, err := Clusters(ctx, store)
		if err != nil || strings.Join(clusters, ",") != "eu-1,us-1" {
			t.Fatalf("clusters %v, %v", clusters, err)
		}
		res, err := Verify(ctx, store, "eu-1", time.Time{}, time.Time{}, key.Public().(ed25519.PublicKey))
		if err != nil || !res.OK() || res.Segments != 4 || res.Records != 12 || res.Signed != 4 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
		// A window reads its segments only, over S3 too.
		res, err = Verify(ctx, store, "eu-1", t0.Add(49*time.Hour), t0.Add(53*time.Hour), nil)
		if err != nil || !res.OK() || res.FirstSeq != 3 || res.LastSeq != 3 {
			t.Fatalf("window: %+v, %v", res, err)
		}
		// Segments are never overwritten.
		keys, _ := store.List(ctx, "eu-1/segments/")
		if err := store.Put(ctx, keys[0], []byte("forged")); !errors.Is(err, ErrExists) {
			t.Errorf("overwriting %s: %v, want ErrExists", keys[0], err)
		}
		// A new writer continues the chain after a restart.
		w, err := NewWriter(ctx, store, WriterOptions{Cluster: "eu-1", Signer: key})
		if err != nil || w.Seq() != 4 {
			t.Fatalf("reopened at %d: %v", w.Seq(), err)
		}
		if err := w.Write(ctx, append(day(3), day(4)...)); err != nil {
			t.Fatal(err)
		}
		res, err = Verify(ctx, store, "eu-1", time.Time{}, time.Time{}, key.Public().(ed25519.PublicKey))
		if err != nil || !res.OK() || res.Records != 15 {
			t.Fatalf("after a restart: %+v, %v", res, err)
		}
	})

	t.Run("a segment deleted from a bucket without Object Lock is named missing", func(t *testing.T) {
		store := bucket(t, endpoint, "unlocked", false, "")
		writeDaysTo(t, store, "prod", 3, nil)
		keys, _ := store.List(ctx, "prod/segments/")
		if err := store.Delete(ctx, keys[1]); err != nil {
			t.Fatalf("deleting without a lock: %v", err)
		}
		res, err := Verify(ctx, store, "prod", time.Time{}, time.Time{}, nil)
		if err != nil || res.OK() || res.Problems[0].Kind != ProblemMissing || res.Problems[0].Seq != 2 {
			t.Fatalf("verify: %+v, %v", res, err)
		}
	})

	for _, mode := range []string{"governance", "compliance"} {
		t.Run("with Object Lock in "+mode+" mode the server refuses to delete a segment", func(t *testing.T) {
			store := bucket(t, endpoint, "locked-"+mode, true, "&lock-mode="+mode+"&retain-days=30")
			writeDaysTo(t, store, "prod", 2, nil)
			keys, _ := store.List(ctx, "prod/segments/")
			ret, err := store.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + keys[0])})
			if err != nil {
				t.Fatalf("retention of %s: %v", keys[0], err)
			}
			if string(ret.Retention.Mode) != strings.ToUpper(mode) || ret.Retention.RetainUntilDate.Before(time.Now().Add(29*24*time.Hour)) {
				t.Errorf("retention %s until %v", ret.Retention.Mode, ret.Retention.RetainUntilDate)
			}
			err = store.Delete(ctx, keys[0])
			if err == nil {
				t.Fatalf("the server deleted locked segment %s", keys[0])
			}
			t.Logf("deleting a locked segment: %v", err)
			if status(err) != 403 && code(err) != "AccessDenied" {
				t.Errorf("deleting %s: %v, want access denied", keys[0], err)
			}
			// And the chain is intact.
			res, err := Verify(ctx, store, "prod", time.Time{}, time.Time{}, nil)
			if err != nil || !res.OK() || res.Segments != 2 {
				t.Fatalf("verify after the refused delete: %+v, %v", res, err)
			}
		})
	}
}

func TestS3StoreURLErrors(t *testing.T) {
	for u, want := range map[string]string{
		"s3:///prefix": "no bucket",
		"s3://b/p?lock-mode=forever&retain-days=1":     `lock-mode="forever"`,
		"s3://b/p?lock-mode=governance":                "needs retain-days",
		"s3://b/p?retain-days=3":                       "needs lock-mode",
		"s3://b/p?retain-days=-3&lock-mode=compliance": "not a positive number",
		"s3://b/p?path-style=maybe":                    "path-style",
		"s3://b/p?regoin=eu-west-1":                    `unknown parameter "regoin"`,
	} {
		if _, err := OpenStore(context.Background(), u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", u, err, want)
		}
	}
	_ = s3types.ObjectLockModeGovernance
}
