#!/bin/sh
# Deploys a 2,000-file app to in-process fakes of the App Engine Admin API and
# Cloud Storage (fake-gcs-server) with appcfg (backend appengine) and with the
# installed gcloud (api_endpoint_overrides), once each, first deploy and
# unchanged redeploy, and prints the times and ratios (gcloud / appcfg).
# Goal (issue 8): first deploy >= 5x, unchanged redeploy >= 10x.
set -eu
cd "$(dirname "$0")/.."
go test -run '^$' -bench BenchmarkDeployVsGcloud -benchtime 1x -v ./backend/appengine
