package console

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/calls"
)

// resultCodesPage lists every resultInfo Switchboard emits (calls.Results,
// the table docs/result-codes.md is made from): the console links each
// code it shows to its row here, by the anchor code-subcode.
var resultCodesPage = template.Must(template.New("codes").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Result codes · Switchboard console</title>
<link rel="stylesheet" href="console.css"></head>
<body><header><a class="brand" href="./">Switchboard console</a></header>
<main><h1>Result codes</h1>
<p class="muted">Every resultInfo Switchboard sends, where it appears and what caused it. "Graph" marks a code and subcode Microsoft Graph documents; the others are Switchboard's choice where Graph documents none.</p>
<table><thead><tr><th>Code/subcode</th><th>Message</th><th>Where</th><th>Cause</th><th>Source</th></tr></thead><tbody>
{{range .}}<tr id="{{.Anchor}}"><td><code>{{.Info.Code}}/{{.Info.Subcode}}</code></td><td>{{.Info.Message}}</td><td>{{.Where}}</td><td>{{.Cause}}</td><td>{{if .Documented}}Graph{{else}}Switchboard{{end}}</td></tr>
{{end}}</tbody></table></main></body></html>
`))

type resultRow struct {
	calls.ResultCode
	Anchor string
}

func serveResultCodes(w http.ResponseWriter, _ *http.Request) {
	rows := make([]resultRow, len(calls.Results))
	for i, r := range calls.Results {
		rows[i] = resultRow{ResultCode: r, Anchor: fmt.Sprintf("%d-%d", r.Info.Code, r.Info.Subcode)}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	resultCodesPage.Execute(w, rows)
}
