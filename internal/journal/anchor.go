package journal

import (
	"context"
	"fmt"
	"time"
)

// The store cannot show that its last segments were deleted, or deleted and written again
// with other content and signed with the operator's key, before a restart: what remains
// verifies, and the restarted operator continues it, the lost time reading as an
// observation.gap. The operator therefore publishes the chain's head outside the store (in the
// cluster, where only the operator may write it), and a process that opens the chain checks it
// against the heads published before it continues (CheckAnchor): a published head beyond the
// chain's end, or naming a segment whose digest the chain does not hold, is journaled as
// journal.rewound.

// JournalRewound: the chain this process opened does not hold the head an earlier process
// published outside the store (Record.Rewind says both): segments were deleted, or replaced with
// other content, before it started. The time they covered is not an ordinary observation gap.
const JournalRewound Type = "journal.rewound"

// Head is a point of a cluster's chain: a segment's sequence number, the SHA-256 of its stored
// bytes (what the next segment's header links to) and the time of its latest record.
type Head struct {
	Seq    uint64    `json:"seq"`
	Digest string    `json:"digest"`
	Time   time.Time `json:"time"`
}

// IsZero reports whether the head is unset (an empty chain).
func (h Head) IsZero() bool { return h.Seq == 0 }

func (h Head) String() string {
	return fmt.Sprintf("segment %d (SHA-256 %s, last record %s)", h.Seq, short(h.Digest), stamp(h.Time))
}

// PublishedHead is a head read from where an earlier process published it; Source names that
// place (e.g. the ComplianceProfile whose status holds it).
type PublishedHead struct {
	Head
	Source string
}

// Rewind is the body of a journal.rewound record.
type Rewind struct {
	// Published is the head an earlier process published, read from Source.
	Published Head   `json:"published"`
	Source    string `json:"source,omitempty"`
	// Found is what the chain holds instead: its last segment when the published one is beyond
	// it, or the segment under the published sequence number.
	Found Head `json:"found"`
	// Detail says which, in words.
	Detail string `json:"detail"`
}

// Head is the chain's latest segment as this writer knows it (zero for an empty chain).
func (w *Writer) Head() Head { return Head{Seq: w.seq, Digest: w.prev, Time: w.last} }

// CheckAnchor compares the heads published outside the store with the chain, whose head a
// writer just opened as head. It returns the rewind of the highest published head the chain
// does not hold (nil when it holds every one): a head beyond the chain's end, or a segment
// under the published sequence number whose digest differs. A head the chain has grown past is
// checked against the segment the chain holds under its sequence number.
func CheckAnchor(ctx context.Context, store Store, cluster string, head Head, published []PublishedHead) (*Rewind, error) {
	var found *Rewind
	var refs []SegmentRef
	for _, p := range published {
		if p.Seq == 0 || (found != nil && p.Seq <= found.Published.Seq) {
			continue
		}
		var rw *Rewind
		switch {
		case p.Seq > head.Seq:
			rw = &Rewind{Found: head, Detail: fmt.Sprintf("the chain ends at segment %d, but segment %d was published: segments %d to %d were deleted (or the store replaced)",
				head.Seq, p.Seq, head.Seq+1, p.Seq)}
		case p.Seq == head.Seq:
			if p.Digest != head.Digest {
				rw = &Rewind{Found: head, Detail: fmt.Sprintf("segment %d's SHA-256 is %s, %s was published: it was replaced with other content", p.Seq, short(head.Digest), short(p.Digest))}
			}
		default:
			if refs == nil {
				var err error
				if refs, err = chainSegments(ctx, store, cluster, nil); err != nil {
					return nil, err
				}
			}
			var ref *SegmentRef
			for i := range refs {
				if refs[i].Seq == p.Seq {
					ref = &refs[i]
					break
				}
			}
			if ref == nil {
				rw = &Rewind{Found: head, Detail: fmt.Sprintf("segment %d was published, the chain has no segment %d: it was deleted", p.Seq, p.Seq)}
				break
			}
			d, err := hashObject(ctx, store, ref.Key)
			if err != nil {
				return nil, err
			}
			if d != p.Digest {
				rw = &Rewind{Found: Head{Seq: ref.Seq, Digest: d, Time: ref.Last}, Detail: fmt.Sprintf("segment %d's SHA-256 is %s, %s was published: it and the segments after it were replaced with other content",
					p.Seq, short(d), short(p.Digest))}
			}
		}
		if rw != nil {
			rw.Published, rw.Source = p.Head, p.Source
			found = rw
		}
	}
	return found, nil
}

// fullString is String with the whole digest, for a problem an auditor compares.
func (h Head) fullString() string {
	return fmt.Sprintf("segment %d (SHA-256 %s, last record %s)", h.Seq, h.Digest, stamp(h.Time))
}
