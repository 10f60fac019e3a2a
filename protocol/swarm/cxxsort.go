package swarm

// oxen-core orders swarms by size with std::sort, which is not stable: among swarms of equal
// size, the order it leaves decides which swarm a random draw lands on. To give the same swarms
// as the real network (built with GCC's libstdc++), sortBySize reproduces libstdc++'s std::sort
// step by step: introsort with median-of-three pivots and a heapsort fallback, stopping at
// partitions of 16 and finishing with one insertion sort.

type swarmSize struct {
	id   ID
	size int
}

const cxxSortThreshold = 16

func sizeLess(a, b swarmSize) bool { return a.size < b.size }

// sortBySize sorts s ascending by size exactly as libstdc++'s std::sort does.
func sortBySize(s []swarmSize) {
	n := len(s)
	if n == 0 {
		return
	}
	introsortLoop(s, 0, n, 2*log2(n))
	finalInsertionSort(s, 0, n)
}

// log2 is std::__lg: the index of the highest set bit.
func log2(n int) int {
	k := -1
	for n > 0 {
		n >>= 1
		k++
	}
	return k
}

func introsortLoop(s []swarmSize, first, last, depth int) {
	for last-first > cxxSortThreshold {
		if depth == 0 {
			heapSort(s, first, last)
			return
		}
		depth--
		cut := partitionPivot(s, first, last)
		introsortLoop(s, cut, last, depth)
		last = cut
	}
}

func partitionPivot(s []swarmSize, first, last int) int {
	mid := first + (last-first)/2
	moveMedianToFirst(s, first, first+1, mid, last-1)
	return unguardedPartition(s, first+1, last, first)
}

func moveMedianToFirst(s []swarmSize, result, a, b, c int) {
	switch {
	case sizeLess(s[a], s[b]):
		switch {
		case sizeLess(s[b], s[c]):
			s[result], s[b] = s[b], s[result]
		case sizeLess(s[a], s[c]):
			s[result], s[c] = s[c], s[result]
		default:
			s[result], s[a] = s[a], s[result]
		}
	case sizeLess(s[a], s[c]):
		s[result], s[a] = s[a], s[result]
	case sizeLess(s[b], s[c]):
		s[result], s[c] = s[c], s[result]
	default:
		s[result], s[b] = s[b], s[result]
	}
}

func unguardedPartition(s []swarmSize, first, last, pivot int) int {
	for {
		for sizeLess(s[first], s[pivot]) {
			first++
		}
		last--
		for sizeLess(s[pivot], s[last]) {
			last--
		}
		if first >= last {
			return first
		}
		s[first], s[last] = s[last], s[first]
		first++
	}
}

func finalInsertionSort(s []swarmSize, first, last int) {
	if last-first > cxxSortThreshold {
		insertionSort(s, first, first+cxxSortThreshold)
		for i := first + cxxSortThreshold; i < last; i++ {
			unguardedLinearInsert(s, i)
		}
		return
	}
	insertionSort(s, first, last)
}

func insertionSort(s []swarmSize, first, last int) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if sizeLess(s[i], s[first]) {
			v := s[i]
			copy(s[first+1:i+1], s[first:i])
			s[first] = v
		} else {
			unguardedLinearInsert(s, i)
		}
	}
}

func unguardedLinearInsert(s []swarmSize, last int) {
	v := s[last]
	next := last - 1
	for sizeLess(v, s[next]) {
		s[last] = s[next]
		last = next
		next--
	}
	s[last] = v
}

// heapSort is std::__partial_sort(first, last, last): make_heap then sort_heap.
func heapSort(s []swarmSize, first, last int) {
	h := s[first:last]
	n := len(h)
	if n >= 2 {
		for parent := (n - 2) / 2; ; parent-- {
			adjustHeap(h, parent, n, h[parent])
			if parent == 0 {
				break
			}
		}
	}
	for end := n; end > 1; {
		end--
		v := h[end]
		h[end] = h[0]
		adjustHeap(h, 0, end, v)
	}
}

func adjustHeap(h []swarmSize, hole, n int, v swarmSize) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if sizeLess(h[child], h[child-1]) {
			child--
		}
		h[hole] = h[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		h[hole] = h[child-1]
		hole = child - 1
	}
	// push_heap
	parent := (hole - 1) / 2
	for hole > top && sizeLess(h[parent], v) {
		h[hole] = h[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	h[hole] = v
}
