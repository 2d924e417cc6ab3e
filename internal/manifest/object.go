package manifest

import (
	"errors"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// DecodeObject reads one object from JSON, as the API server sends it to an admission
// webhook. A ClusterServiceVersion also yields the objects OLM creates from it. A custom
// resource that runs containers is no error here (ErrContainersNotJudged is a scan's): the
// webhook judges the Pods its controller makes.
func DecodeObject(js []byte) ([]*engine.Object, error) {
	objs, err := decodeJSON(js, 0, Options{})
	if errors.Is(err, ErrContainersNotJudged) {
		err = nil
	}
	return objs, err
}
