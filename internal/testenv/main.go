package testenv

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Main is the TestMain of a package whose tests share a control plane and an operator: it sets
// controller-runtime's logger (errors only; TEST_VERBOSE=1 logs everything), calls run, which
// starts what the tests share, runs them and stops it, and exits with the tests' code, or with
// 1 and run's error.
func Main(m *testing.M, run func(*testing.M) (int, error)) {
	level := zapcore.ErrorLevel
	if os.Getenv("TEST_VERBOSE") != "" {
		level = zapcore.Level(-2)
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(level)))
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

// Scheme holds the built-in kinds and the operator's, and whatever add registers.
func Scheme(add ...func(*runtime.Scheme) error) *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	for _, a := range add {
		utilruntime.Must(a(s))
	}
	return s
}
