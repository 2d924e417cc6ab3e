package journal

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// A journal of more than 1,000 objects (a segment every flush with records, and its signature),
// with Object Lock or without versioning: ListObjectVersions returns a thousand entries a page,
// and versitygw begins the next page with the entry the page before ended with, so the key at
// each page boundary was counted twice and named `replaced` ("holds more than one version: it
// was written over"): verification failed for a chain nobody touched, segment 1000, 1999, ... of
// every long journal. Each version is counted once, by its key and version ID.
func TestObjectsWrittenOnceAreNotReplacedAcrossListingPages(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()
	for _, tc := range []struct {
		bucket string
		lock   bool
		query  string
	}{{"pages", false, ""}, {"pages-locked", true, "&lock-mode=compliance&retain-days=1"}} {
		t.Run(tc.bucket, func(t *testing.T) {
			store := bucket(t, endpoint, tc.bucket, tc.lock, tc.query)
			const n = 1100 // a page is 1,000 versions
			var wg sync.WaitGroup
			errs := make(chan error, n)
			keys := make(chan string, n)
			for i := range n {
				keys <- fmt.Sprintf("prod/segments/%012d", i)
			}
			close(keys)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range keys {
						if err := store.Put(ctx, k, []byte(k)); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			hidden, replaced, err := store.versions(ctx, "prod/")
			if err != nil {
				t.Fatal(err)
			}
			if len(hidden) != 0 || len(replaced) != 0 {
				t.Errorf("%d objects each written once: hidden %v, replaced %v; want none", n, hidden, replaced)
			}
		})
	}
}
