// Package intern keeps one copy of each distinct value, so that the many actors of a world
// that were given equal settings share one instead of each holding its own.
//
// A Pool belongs to the world object that owns it and is not safe for concurrent use: whoever
// may call Of from several goroutines must serialise the calls, as for the world object.
package intern

import "reflect"

// Pool holds the distinct values given to Of. It is meant for a handful of distinct values
// (settings per platform or version), each compared in full: a lookup is linear in them.
type Pool[T any] struct {
	values []*T
}

// Of returns the pool's copy of v, equal to v in every field (reflect.DeepEqual), adding one
// when there is none. The copy is shared: it must never be changed.
func (p *Pool[T]) Of(v T) *T {
	for _, q := range p.values {
		if reflect.DeepEqual(*q, v) {
			return q
		}
	}
	q := new(T) // copied only here, so that a value found costs no allocation
	*q = v
	p.values = append(p.values, q)
	return q
}

// Len is the number of distinct values held.
func (p *Pool[T]) Len() int { return len(p.values) }
