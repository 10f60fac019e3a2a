package sim

import "github.com/sessionsim/sessionsim/actor"

// Invoke runs f now as a callback of the actor at addr, as if one of its own timers had fired:
// what f makes the actor do (send, set timers, observe) is attributed to it and starts at the
// current virtual time. Scenarios use it to drive actors from outside (a user pressing send,
// an app going to the background). On a paused actor f runs when it resumes.
func (e *Engine) Invoke(addr actor.Addr, f func()) error {
	env, err := e.liveActor("Invoke", addr)
	if err != nil {
		return err
	}
	if env.paused {
		// A frozen process takes its input once it runs again: f waits as its timers do.
		env.e.after(env, env.e.now, f)
		return nil
	}
	fr := env.e.enter(env)
	f()
	env.e.leave(fr)
	return nil
}
