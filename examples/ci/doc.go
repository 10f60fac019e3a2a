// Package ci holds an example CI set-up for projects that run sessionsim scenarios: a GitHub
// Actions workflow (github-actions.yml) and a plain shell script (run-scenarios.sh) for any
// other CI system. Its tests check that both call commands, flags, scenarios and result files
// that exist, so the examples cannot fall behind the command line.
package ci
