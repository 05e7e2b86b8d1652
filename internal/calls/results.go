package calls

import (
	"fmt"
	"strings"
)

// The resultInfo values Switchboard emits. Codes and messages follow
// Graph's documented table (reference §3.8) and examples where one fits;
// the others are marked as Switchboard's choice in Results.
var (
	ResultOperationOK           = ResultInfo{Code: 200, Subcode: 0, Message: "Action completed successfully."}
	ResultHungUp                = ResultInfo{Code: 200, Subcode: 5001, Message: "The conversation has ended."}
	ResultCallerHungUp          = ResultInfo{Code: 200, Subcode: 4097, Message: "Call ended by the other participant in the call."}
	ResultRemoteEnded           = ResultInfo{Code: 200, Subcode: 4521, Message: "Call ended by the other participant in peer-to-peer call."}
	ResultRemovedByApp          = ResultInfo{Code: 200, Subcode: 5300, Message: "Participant was removed from the conversation by another participant."}
	ResultRejected              = ResultInfo{Code: 200, Subcode: 7000, Message: "The conversation has ended by bot."}
	ResultRedirected            = ResultInfo{Code: 200, Subcode: 7000, Message: "The call was redirected by the bot."}
	ResultTransferred           = ResultInfo{Code: 0, Subcode: 7015, Message: "GracefulTransferCompleted"}
	ResultEscalated             = ResultInfo{Code: 200, Subcode: 7016, Message: "The participant was moved to a group call (invite with replacesCallId)."}
	ResultAnswerTimeout         = ResultInfo{Code: 408, Subcode: 1106, Message: "An acknowledgement was not received for the call acceptance in the allotted time."}
	ResultKeepAlive             = ResultInfo{Code: 408, Subcode: 8537, Message: "Keep Alive timeout, cleaned up inactive call."}
	ResultNoAnswer              = ResultInfo{Code: 408, Subcode: 10057, Message: "Call timed out due to no signaling from callee endpoints."}
	ResultInviteNoAnswer        = ResultInfo{Code: 408, Subcode: 10057, Message: "None of the invited participants answered."}
	ResultUnreachable           = ResultInfo{Code: 480, Subcode: 10037, Message: "No callee endpoints were found."}
	ResultBusy                  = ResultInfo{Code: 486, Subcode: 0, Message: "The callee is busy and declined the call."}
	ResultDeclined              = ResultInfo{Code: 603, Subcode: 0, Message: "The callee declined the call."}
	ResultMediaTimeout          = ResultInfo{Code: 410, Subcode: 301005, Message: "Media connectivity failure: no audio reached the server for too long."}
	ResultTransferFailed        = ResultInfo{Code: 500, Subcode: 7000, Message: "The transfer target could not be reached; the call continues."}
	ResultConsultTransferFailed = ResultInfo{Code: 500, Subcode: 7700, Message: "The consultative transfer failed; the call continues."}
)

// ResultCode describes one resultInfo Switchboard emits, for
// docs/result-codes.md.
type ResultCode struct {
	Info       *ResultInfo
	Where      string // the notification or operation that carries it
	Cause      string // what happened, and what to look at
	Documented bool   // the code/subcode pair is Graph's own; false: Switchboard's choice where Graph documents none
}

// Results is the one table of every resultInfo Switchboard emits.
var Results = []ResultCode{
	{&ResultOperationOK, "operation completed (operations/{id}, deleted)", "The operation (invite, startHoldMusic, addLargeGalleryView ...) finished.", true},
	{&ResultHungUp, "call terminated (deleted)", "The application hung up with DELETE /communications/calls/{id}.", true},
	{&ResultCallerHungUp, "call terminated (deleted)", "The caller hung up before the incoming call was answered.", true},
	{&ResultRemoteEnded, "call terminated (deleted)", "The other person of a peer-to-peer call hung up (a simulated identity's hangUpAfter, or the control API).", true},
	{&ResultRemovedByApp, "call terminated (deleted)", "Another application removed this application's leg from a group call or meeting (DELETE .../participants/{id}).", true},
	{&ResultRejected, "call terminated (deleted)", "The application rejected the incoming call; the message names the reason given.", true},
	{&ResultRedirected, "call terminated (deleted)", "The application redirected the incoming call; its leg ends.", false},
	{&ResultTransferred, "call terminated (deleted)", "A transfer (blind or consultative) completed; for a consultative transfer both of the application's calls end so.", true},
	{&ResultEscalated, "call terminated (deleted)", "The application invited this call's other participant into a group call with replacesCallId; the peer-to-peer call is dropped.", false},
	{&ResultAnswerTimeout, "call terminated (deleted)", "An incoming call was neither answered, rejected nor redirected within 15 seconds.", true},
	{&ResultKeepAlive, "call terminated (deleted)", "No keepAlive request for 45 minutes.", true},
	{&ResultNoAnswer, "call terminated (deleted)", "The callee of a peer-to-peer call did not answer within the ring timeout (calls.ringTimeout, or beta ringingTimeoutInSeconds); a simulated identity with behaviour noAnswer never answers.", true},
	{&ResultInviteNoAnswer, "invite operation failed (operations/{id}, deleted)", "None of the participants of an invite answered in time, or all declined.", false},
	{&ResultUnreachable, "call terminated (deleted)", "The callee cannot be reached (a simulated identity with behaviour unreachable, or a phone that is not registered or answers SIP 404, 410, 480 or 604).", true},
	{&ResultBusy, "call terminated (deleted)", "The callee declined as busy (a simulated identity with behaviour busy, the control API's reject, or a phone's SIP 486 or 600).", false},
	{&ResultDeclined, "call terminated (deleted)", "A phone declined the call (SIP 603).", false},
	{&ResultMediaTimeout, "call terminated (deleted)", "No RTP came from a phone for sip.rtpTimeout; its media is considered lost.", true},
	{&ResultTransferFailed, "call updated, back to established", "The transfer target did not answer, was busy or unreachable; the call goes on.", true},
	{&ResultConsultTransferFailed, "call updated, back to established", "A consultative transfer failed; the call goes on.", true},
}

// ResultCodesMarkdown renders Results as docs/result-codes.md.
func ResultCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Result codes\n\n")
	b.WriteString("Every `resultInfo` Switchboard puts in a call or operation, generated from\n")
	b.WriteString("`internal/calls/results.go` (`go test ./internal/calls -run TestResultCodesDoc -update-docs`\n")
	b.WriteString("rewrites this file; the test fails when it is stale). \"Graph\" marks a code and\n")
	b.WriteString("subcode pair from Graph's documentation; \"Switchboard\" marks a choice made where\n")
	b.WriteString("Graph documents none.\n\n")
	b.WriteString("| code | subcode | message | carried by | cause | source |\n|---|---|---|---|---|---|\n")
	for _, r := range Results {
		src := "Switchboard"
		if r.Documented {
			src = "Graph"
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s |\n", r.Info.Code, r.Info.Subcode, r.Info.Message, r.Where, r.Cause, src)
	}
	return b.String()
}
