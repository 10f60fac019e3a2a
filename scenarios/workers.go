package scenarios

// Workers is how many workers a world's engine runs on when requested are asked for (sessionsim
// run --workers), and when that is fewer, why. The engine runs one world on several workers with
// one result (sim.Config.Workers), but only for actors that share nothing across hosts, and a
// world's actors still do: all nodes share one node.Views and one identity.X25519Memo, all
// clients one client.Directory, and sinks such as answerMessages and the collector act on what
// they observe at the instant they observe it, where workers hand observations over at the end
// of a window. Until those are kept per host (or per worker), a world runs on one.
func Workers(requested int) (used int, why string) {
	if requested <= 1 {
		return 1, ""
	}
	return 1, worldOnOneWorker
}

const worldOnOneWorker = "the world's shared state is not partitioned by host yet " +
	"(the nodes' views and key memo, the clients' directory, sinks that act on what they observe)"
