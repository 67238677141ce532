//go:build tools

// Package tools pins the BigQuery emulator in this module's go.mod/go.sum so install.sh can
// build it with `go build github.com/goccy/bigquery-emulator/cmd/bigquery-emulator` (the module
// proxy refuses the version list that `go install ...@v0.8.1` needs).
package tools

import _ "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"
