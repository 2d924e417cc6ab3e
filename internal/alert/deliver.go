package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// userAgent identifies the operator to receivers.
const userAgent = "soc2-operator"

// work delivers s's alerts one at a time, in order, until s stops.
func (d *Dispatcher) work(s *sink) {
	for {
		select {
		case <-s.ctx.Done():
			d.drop(s)
			return
		case a := <-s.queue:
			d.dequeued(s, a)
			d.deliver(s, a)
		}
	}
}

// drop empties s's queue when s has stopped: the alerts are dropped, or kept for the next
// process (keptAtStop; counted dropped only if the save fails, Start).
func (d *Dispatcher) drop(s *sink) {
	if d.keptAtStop() {
		for {
			select {
			case <-s.queue:
			default:
				return
			}
		}
	}
	dropped := 0
	for {
		select {
		case a := <-s.queue:
			dropped++
			metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
		default:
			if dropped > 0 {
				d.log.Info("Alerts dropped: the sink stopped before delivering them (when the operator stops, Options.Store keeps them for the next process)",
					"profile", s.profile, "sink", s.name, "count", dropped)
			}
			return
		}
	}
}

// deliver attempts a until the sink accepts it, rejects it, or the attempts run out.
func (d *Dispatcher) deliver(s *sink, a Alert) {
	log := d.log.WithValues("profile", s.profile, "sink", s.name, "event", a.Event, "key", a.Key)
	count := func(result string) {
		metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), result).Inc()
	}
	for attempt := 1; ; attempt++ {
		retryAfter, err := d.attempt(s.ctx, d.config(s), a)
		if err == nil {
			d.settled(s, a)
			count(ResultSent)
			log.V(1).Info("Alert sent", "attempts", attempt)
			return
		}
		if s.ctx.Err() != nil {
			d.stopped(s, a, attempt)
			return
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt >= d.opts.Retry.Attempts {
			// Forgotten, so that a later Send of the same transition is attempted again.
			s.keys.forget(a.Key)
			count(ResultFailed)
			log.Error(err, "Alert not delivered", "attempts", attempt)
			if !errors.As(err, &perm) {
				d.failed(s, a) // offered again by Retry: the sink may be back by then
			} else {
				d.settled(s, a)
			}
			return
		}
		wait := d.backoff(attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, d.opts.Retry.MaxBackoff)
		}
		log.V(1).Info("Alert delivery failed, will retry", "attempt", attempt, "retryIn", wait.String(), "reason", err.Error())
		if d.opts.Sleep(s.ctx, wait) != nil {
			d.stopped(s, a, attempt)
			return
		}
	}
}

// stopped records that s stopped before delivering a: dropped, or kept for the next process
// (keptAtStop).
func (d *Dispatcher) stopped(s *sink, a Alert, attempts int) {
	log := d.log.WithValues("profile", s.profile, "sink", s.name, "event", a.Event, "key", a.Key, "attempts", attempts)
	if d.keptAtStop() {
		log.V(1).Info("Alert not delivered yet: the operator stops, and keeps it for the next process")
		return
	}
	metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
	log.Info("Alert dropped: the sink stopped before delivering it")
}

// keptAtStop says whether the alerts a sink has not delivered when it stops are kept for the
// next process (Options.Store, and the dispatcher stopping, not the sink removed): they are
// not dropped, and counting them so (soc2_operator_alerts_total, which SOC2AlertsNotDelivered
// reads) would page at a plain restart. Start counts them dropped if it cannot save them.
func (d *Dispatcher) keptAtStop() bool {
	return d.opts.Store != nil && d.ctx != nil && d.ctx.Err() != nil
}

// backoff is the wait after the given failed attempt (1 for the first): InitialBackoff
// doubled for each further attempt, at most MaxBackoff, less up to Jitter of it at random.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	r := d.opts.Retry
	wait := r.MaxBackoff
	if shift := attempt - 1; shift < 62 && r.InitialBackoff <= r.MaxBackoff>>shift {
		wait = r.InitialBackoff << shift
	}
	return wait - time.Duration(rand.Float64()*r.Jitter*float64(wait))
}

// permanentError is a failure that another attempt will not fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// attempt POSTs a to the sink once. On failure, it returns how long the receiver asked to
// wait (Retry-After), or zero.
func (d *Dispatcher) attempt(ctx context.Context, cfg v1alpha1.AlertSink, a Alert) (time.Duration, error) {
	target, err := sinkURL(cfg)
	if err != nil {
		return 0, err
	}
	body, err := payload(cfg.Type, a)
	if err != nil {
		return 0, permanentError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, permanentError{fmt.Errorf("build request to %s: %w", redact(target), err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL, and a Slack webhook's path is a secret.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, fmt.Errorf("POST to %s: %w", redact(target), err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err = fmt.Errorf("POST to %s: %s", redact(target), resp.Status)
	if text := oneLine(string(head)); text != "" {
		err = fmt.Errorf("POST to %s: %s: %s", redact(target), resp.Status, text)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable:
		return retryAfter(resp.Header.Get("Retry-After"), d.opts.Clock.Now()), err
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout:
		return 0, err
	}
	return 0, permanentError{err}
}

// sinkURL is where the sink's alerts go: its url, or the content of its urlFile read now, so
// that a rotated Secret is picked up. An unreadable or empty file is worth another attempt; a
// malformed URL is not.
func sinkURL(cfg v1alpha1.AlertSink) (*url.URL, error) {
	raw, source := cfg.URL, "url"
	if cfg.URLFile != "" {
		b, err := os.ReadFile(cfg.URLFile)
		if err != nil {
			var perr *fs.PathError
			if errors.As(err, &perr) {
				err = perr.Err
			}
			return nil, fmt.Errorf("read urlFile %s: %w", cfg.URLFile, err)
		}
		raw, source = strings.TrimSpace(string(b)), "urlFile "+cfg.URLFile
		if raw == "" {
			return nil, fmt.Errorf("urlFile %s is empty", cfg.URLFile)
		}
	}
	if raw == "" {
		return nil, permanentError{errors.New("the sink has neither url nor urlFile")}
	}
	// The URL is not repeated in the error: it may be a secret.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, permanentError{fmt.Errorf("%s does not hold an http:// or https:// URL", source)}
	}
	return u, nil
}

// redact shows the scheme and host of a sink's URL, never the path or query, which carry the
// token of a Slack webhook.
func redact(u *url.URL) string { return u.Scheme + "://" + u.Host }

// retryAfter reads a Retry-After header: a number of seconds or an HTTP date. Zero when
// absent, malformed or past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
