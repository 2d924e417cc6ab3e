package manifest

import "github.com/soc2-operator/soc2-operator/internal/engine"

// DecodeObject reads one object from JSON, as the API server sends it to an admission
// webhook. A ClusterServiceVersion also yields the objects OLM creates from it.
func DecodeObject(js []byte) ([]*engine.Object, error) { return decodeJSON(js, 0, Options{}) }
