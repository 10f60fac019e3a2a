// Package cputime reads the CPU time the process has used, so that benchmarks on a shared
// machine can report their cost apart from the time other processes took.
package cputime
