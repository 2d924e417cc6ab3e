package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// resyncOn returns a runnable that calls resync on each receive from trigger (Options.Resync).
//
// It is the seam that lets a fake Options.Clock drive what the real one drives through
// requeues: controller-runtime counts RequeueAfter in real time, so moving a fake clock past an
// exception's expiry or a profile's interval requeues nothing by itself. A test moves the clock,
// then sends on Options.Resync, and every profile is evaluated and every exception judged at the
// new time, as the requeues due by then would have done. In production Resync is nil.
func resyncOn(trigger <-chan struct{}, resync func()) manager.Runnable {
	return &resyncer{trigger: trigger, resync: resync}
}

type resyncer struct {
	trigger <-chan struct{}
	resync  func()
}

func (r *resyncer) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.trigger:
			r.resync()
		}
	}
}

// NeedLeaderElection: only the leader evaluates.
func (r *resyncer) NeedLeaderElection() bool { return true }
