// Interns may not use gpt-4o: deny it, and tell them what to use instead.
function before_model_call(call) {
  if (call.team === "interns" && call.model === "gpt-4o") {
    return deny("gpt-4o is not available to the interns team; use gpt-4o-mini")
  }
  return allow()
}
