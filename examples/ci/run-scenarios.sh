#!/bin/sh
# Runs sessionsim scenarios with their checks in any CI system (GitLab CI, Jenkins, Buildkite,
# a cron job): builds sessionsim, runs each scenario named on the command line (default:
# churn) shortened with --quick, copies each one's junit.xml, report.html and summary.json to
# $ARTEFACTS/<scenario>/ for the CI system to publish, and exits like sessionsim: 0 when every
# check passed, 3 when a check failed (after running every scenario), 1 or 2 at once on a
# run error or bad input.
#
#   examples/ci/run-scenarios.sh churn partition
#   FULL=1 examples/ci/run-scenarios.sh replication     # the full-size scenario, not --quick
#
# SESSIONSIM names a sessionsim binary to use instead of building bin/sessionsim.
set -u
ARTEFACTS=${ARTEFACTS:-artefacts}
RESULTS=${RESULTS:-results}
if [ -z "${SESSIONSIM:-}" ]; then
	make build || exit 1
	SESSIONSIM=bin/sessionsim
fi
QUICK=--quick
if [ -n "${FULL:-}" ]; then
	QUICK=
fi
[ $# -gt 0 ] || set -- churn

verdict=0
for scenario in "$@"; do
	out="$RESULTS/$scenario"
	rm -rf "$out"
	"$SESSIONSIM" run "$scenario" $QUICK --progress lines --out "$out"
	status=$?
	mkdir -p "$ARTEFACTS/$scenario"
	for f in junit.xml report.html summary.json; do
		[ -f "$out/$f" ] && cp "$out/$f" "$ARTEFACTS/$scenario/"
	done
	case $status in
	0) ;;
	3)
		echo "run-scenarios: $scenario: checks failed (verdicts in $ARTEFACTS/$scenario/junit.xml)" >&2
		verdict=3
		;;
	*)
		echo "run-scenarios: $scenario: sessionsim exited $status" >&2
		exit "$status"
		;;
	esac
done
exit $verdict
