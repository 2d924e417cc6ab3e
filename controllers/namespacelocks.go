package controllers

import "sync"

// namespaceLocks serialises the evaluations of one namespace for one profile, from reading its
// objects to writing its report. Two evaluations of a profile run at once: a full one, which
// works through every namespace, and one of a namespace alone, which a change in it queues (the
// queue holds each request once, so two of the same namespace alone never overlap). A change
// made just after the full evaluation read the namespace was judged by the evaluation of the
// namespace alone, and then the full evaluation wrote what it had read before the change over
// it: a tenant's privileged Deployment read Compliant until the next full evaluation, the
// change's event having been used. Under the lock, the evaluation that reads the namespace
// later also writes it later.
type namespaceLocks struct {
	mu    sync.Mutex
	locks map[namespaceKey]*namespaceLock
	// waiting, when set (tests), is called when an evaluation must wait for another of the
	// same namespace.
	waiting func(profile, namespace string)
}

type namespaceKey struct{ profile, namespace string }

type namespaceLock struct {
	mu    sync.Mutex
	users int // holding or waiting; the lock is forgotten at 0
}

// lock takes the lock of the profile's namespace and returns its release.
func (l *namespaceLocks) lock(profile, namespace string) (unlock func()) {
	key := namespaceKey{profile, namespace}
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[namespaceKey]*namespaceLock{}
	}
	nl := l.locks[key]
	if nl == nil {
		nl = &namespaceLock{}
		l.locks[key] = nl
	}
	nl.users++
	waiting := l.waiting
	l.mu.Unlock()
	if !nl.mu.TryLock() {
		if waiting != nil {
			waiting(profile, namespace)
		}
		nl.mu.Lock()
	}
	return func() {
		nl.mu.Unlock()
		l.mu.Lock()
		if nl.users--; nl.users == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}
