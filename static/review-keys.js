// Key bindings for the review screen: each key clicks a real <button data-key="...">,
// so the page works the same without JavaScript.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT")) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const button = document.querySelector(`button[data-key="${CSS.escape(key)}"]`);
  if (!button || button.disabled) return;
  event.preventDefault();
  button.disabled = true; // one key press, one answer
  button.form.requestSubmit(button);
});
