// Key bindings for the review screen: each key clicks a real <button data-key="...">,
// so the page works the same without JavaScript. htmx swaps in the next item.
// One key press, one answer: keys wait until htmx has swapped in the next item and
// wired up its forms (settled); pressing earlier would submit the old form natively.
let submitting = false;

function setReady(ready) {
  submitting = !ready;
  document.body.dataset.reviewReady = String(ready); // tests and assistive tools can wait on this
}

// A request that failed swapped nothing: say so on the item still shown, and take keys again.
function failed(text) {
  const problem = document.querySelector("#review [data-problem]");
  if (problem) {
    problem.textContent = text;
    problem.hidden = false;
  }
  setReady(true);
}

// The guidelines panel stays as the annotator left it from one item to the next (htmx swaps it).
let guidelinesOpen = false;

function keepGuidelines() {
  const panel = document.querySelector("details[data-guidelines]");
  if (panel) panel.open = guidelinesOpen;
}

// "toggle" does not bubble: listen in the capture phase for clicks on the summary too.
document.addEventListener("toggle", (event) => {
  if (event.target.matches && event.target.matches("details[data-guidelines]")) guidelinesOpen = event.target.open;
}, true);

document.addEventListener("DOMContentLoaded", () => setReady(true));
document.addEventListener("htmx:afterSettle", () => {
  keepGuidelines();
  setReady(true);
});
document.addEventListener("htmx:sendError", () =>
  failed("Not saved: the server could not be reached. Check the connection, then press the key again."));
document.addEventListener("htmx:responseError", (event) =>
  failed(`Not saved: the server answered with an error (${event.detail.xhr.status}). Press the key again, or reload the page.`));

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && ["TEXTAREA", "INPUT", "SELECT"].includes(target.tagName)) return;
  // Panels, not answers: they work even while an answer is on its way.
  const panels = {
    "?": "details[data-help]",
    g: "details[data-guidelines]",
    G: "details[data-guidelines]",
    h: "details[data-history]",
    H: "details[data-history]",
  };
  if (panels[event.key]) {
    const panel = document.querySelector(panels[event.key]);
    if (panel) {
      panel.open = !panel.open;
      event.preventDefault();
      return;
    }
  }
  if (submitting) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const button = document.querySelector(`button[data-key="${CSS.escape(key)}"]`);
  if (!button || button.disabled) return;
  event.preventDefault();
  setReady(false);
  button.click();
});
