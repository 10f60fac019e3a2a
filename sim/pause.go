package sim

import (
	"fmt"

	"github.com/sessionsim/sessionsim/actor"
)

// A paused actor is a frozen process (SIGSTOP, a paused container): it keeps its state, its
// timers and its open calls, but runs nothing. Every event that would run one of its callbacks
// (a timer of its own, a request to it, the response, deadline or failure of a call it made)
// is held, in the order it came due, instead of dispatched; its callers' own deadlines still
// run, so they time out as they would against a hung server. Resume queues what was held at
// the current instant, in that order, with keys of the actor's own: late timers fire, requests
// are handled (a caller that gave up meanwhile counts the answer as late, as a real server
// reading its backlog answers connections already closed), and the calls it made complete with
// whatever came first, response or deadline.
//
// Actors that are never paused pay for this one flag check per event.

// hold keeps an event of a paused actor until it resumes.
// The events wait on the engine that runs the actor's host, not in the actor's record, which
// every event reads and which stays within two cache lines.
func (a *actorEnv) hold(k kind, slot, gen uint32) {
	w := a.e
	if w.held == nil {
		w.held = map[*actorEnv][]event{}
	}
	w.held[a] = append(w.held[a], event{ref: slot<<kindBits | uint32(k), gen: gen})
}

// thaw ends a pause: what was held is queued now, in the order it came due. An actor that died
// while paused has its held events run as a dead actor's, which releases their records.
func (a *actorEnv) thaw() {
	w := a.e
	held := w.held[a]
	delete(w.held, a)
	a.paused = false
	for _, ev := range held {
		w.push(w.now, w.key(a), ev.kind(), ev.slot(), ev.gen)
	}
}

// Pause freezes the actor at addr until Resume: see above. Pausing a paused actor is refused.
func (e *Engine) Pause(addr actor.Addr) error {
	env, err := e.liveActor("Pause", addr)
	if err != nil {
		return err
	}
	if env.paused {
		return fmt.Errorf("sim: pause: the actor at %v is paused already", addr)
	}
	env.paused = true
	return nil
}

// Resume lets the paused actor at addr run again: what it missed while paused runs now.
func (e *Engine) Resume(addr actor.Addr) error {
	env, err := e.liveActor("Resume", addr)
	if err != nil {
		return err
	}
	if !env.paused {
		return fmt.Errorf("sim: resume: the actor at %v is not paused", addr)
	}
	env.thaw()
	return nil
}

// Paused reports whether the actor at addr runs but is paused.
func (e *Engine) Paused(addr actor.Addr) bool {
	env := e.actorAt(addr)
	return env != nil && env.alive && env.paused
}
