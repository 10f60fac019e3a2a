// Command sessionsim simulates the Session messenger network: service nodes in swarms, the
// service-node list, clients on onion paths, and the faults a real network suffers. See README.md.
package main

import (
	"os"

	"github.com/sessionsim/sessionsim/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
