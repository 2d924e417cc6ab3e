// Package kubeapi holds the operator's default client-side limits on its requests to the API
// server: the defaults of the manager's --kube-api-qps and --kube-api-burst, which the test
// suites that run the operator in process (internal/testenv.StartOperator) use too, so that
// they are throttled as the operator is and no more (client-go's own default is 5 requests a
// second).
package kubeapi

const (
	// DefaultQPS is how many requests a second the operator sends to the API server.
	DefaultQPS = 50
	// DefaultBurst is how many requests above DefaultQPS it may send at once.
	DefaultBurst = 100
)
