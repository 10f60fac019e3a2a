package live

import (
	"sync"
	"time"
)

// timerSet is the real-time timers of one owner (an actor, or the driver's world timers), by
// id, so that a timer that fires after it was stopped does nothing (take) and all of them stop
// when the owner ends. The zero value is empty and ready.
type timerSet struct {
	mu     sync.Mutex
	timers map[uint64]*time.Timer
	nextID uint64
}

// after starts a timer that calls fire with its id once d has passed, and returns the id.
func (s *timerSet) after(d time.Duration, fire func(id uint64)) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timers == nil {
		s.timers = map[uint64]*time.Timer{}
	}
	s.nextID++
	id := s.nextID
	s.timers[id] = time.AfterFunc(max(d, 0), func() { fire(id) })
	return id
}

// take removes timer id as it fires; false when it was stopped first.
func (s *timerSet) take(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.timers[id]
	delete(s.timers, id)
	return ok
}

// stop cancels timer id; false when it had fired or been stopped already (actor.TimerStopper).
func (s *timerSet) stop(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.timers[id]
	if ok {
		t.Stop()
		delete(s.timers, id)
	}
	return ok
}

// stopAll cancels every timer.
func (s *timerSet) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
}
