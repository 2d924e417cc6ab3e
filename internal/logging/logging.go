// Package logging builds the operator's logr.Logger on zap, through zapr.
package logging

import (
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options are the logging flags.
type Options struct {
	// Level is debug, info, error, or a logr verbosity as a number (1 = debug, 2 = more).
	Level string
	// Format is json or console.
	Format string
}

// BindFlags registers --log-level and --log-format.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Level, "log-level", "info", "Log level: debug, info, error, or a verbosity number (1 = debug, 2 = more detail)")
	fs.StringVar(&o.Format, "log-format", "json", "Log format: json or console")
}

// New builds a logger that writes to w.
func New(o Options, w io.Writer) (logr.Logger, error) {
	level, err := parseLevel(o.Level)
	if err != nil {
		return logr.Discard(), err
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch o.Format {
	case "json", "":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return logr.Discard(), fmt.Errorf("--log-format: %q is not json or console", o.Format)
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(w), level)
	return zapr.NewLogger(zap.New(core, zap.AddCaller())), nil
}

func parseLevel(s string) (zapcore.Level, error) {
	switch s {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info", "":
		return zapcore.InfoLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	// logr's V(n) maps to zap level -n.
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 10 {
		return 0, fmt.Errorf("--log-level: %q is not debug, info, error or a verbosity from 0 to 10", s)
	}
	return zapcore.Level(-n), nil
}
