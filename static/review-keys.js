// Key bindings for the review screen: each key clicks a real <button data-key="...">,
// so the page works the same without JavaScript.
let submitting = false; // one key press, one answer: ignore keys until the next page

document.addEventListener("keydown", (event) => {
  if (submitting || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName)) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const button = document.querySelector(`button[data-key="${CSS.escape(key)}"]`);
  if (!button || button.disabled) return;
  event.preventDefault();
  submitting = true;
  button.click();
});
