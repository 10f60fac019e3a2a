// Package minheap is a min-heap of any element type that orders itself (Before), so that a
// queue of timed steps is one type here rather than container/heap's five methods and type
// assertions written again for each element.
package minheap

import "container/heap"

// Item is an element that knows whether it comes before another. Before must be a strict
// order; for a queue that must pop the same way every run, make it total (a sequence number
// breaks ties).
type Item[T any] interface {
	Before(other T) bool
}

// Heap holds items with the first (by Before) on top. The zero value is an empty heap.
type Heap[T Item[T]] struct {
	items items[T]
}

// Len is the number of items.
func (h *Heap[T]) Len() int { return len(h.items) }

// Push adds x.
func (h *Heap[T]) Push(x T) { heap.Push(&h.items, x) }

// Pop removes and returns the first item; the heap must not be empty.
func (h *Heap[T]) Pop() T { return heap.Pop(&h.items).(T) }

// Min is the first item, left in place; the heap must not be empty.
func (h *Heap[T]) Min() T { return h.items[0] }

// items is the heap.Interface container/heap works on.
type items[T Item[T]] []T

func (s items[T]) Len() int           { return len(s) }
func (s items[T]) Less(i, j int) bool { return s[i].Before(s[j]) }
func (s items[T]) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *items[T]) Push(x any)        { *s = append(*s, x.(T)) }
func (s *items[T]) Pop() any {
	old := *s
	n := len(old) - 1
	x := old[n]
	var zero T
	old[n] = zero // let go of what the item holds (a closure, a key)
	*s = old[:n]
	return x
}
