package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// boundedRecorder writes every Event's note printable (engine.Printable) and within what the API
// server accepts: events.k8s.io/v1 refuses a note over 1,024 bytes, and the Event is then lost
// with only a line in the operator's log. Notes name user names and namespaces and quote the
// API server's errors, none of which the operator bounds ("Approved by %s (requested by %s)" with
// two long user names; a report write refused with a long validation error).
type boundedRecorder struct{ events.EventRecorder }

func (r boundedRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, "%s", engine.Truncate(engine.Printable(fmt.Sprintf(note, args...))))
}
