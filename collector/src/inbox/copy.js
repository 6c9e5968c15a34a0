// Copy buttons of the inbox's forms pages (served as /inbox/assets/copy.js; the pages allow no
// inline script). Each `button[data-copy]` copies the text of the element its value names and
// says so in the status next to it. Without this script the buttons stay hidden and the code
// stays selectable text.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.dataset.copy}-status`);
  if (!source) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      if (status) status.textContent = "Copied.";
    } catch {
      // No clipboard (an http page, a refused permission): select the text for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (status) status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
}
