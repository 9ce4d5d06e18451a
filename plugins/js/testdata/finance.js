// Mark model and tool calls on finance tasks, so that their events can be
// found and reviewed.
function isFinance(x) {
  return x.tags.task === "finance" || x.tags.domain === "finance"
}

function before_model_call(call) {
  if (isFinance(call)) {
    return annotate({data_class: "confidential", review: "finance", agent: call.agent})
  }
}

function before_tool_call(call) {
  if (isFinance(call)) {
    return annotate({data_class: "confidential", tool: call.tool})
  }
}
