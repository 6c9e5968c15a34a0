// Plain HTML: importing the package registers <bantam-form>; the page's markup does the rest.
import "bantam-form";

document.querySelector("bantam-form").addEventListener("bantam:submit", (event) => {
  const { lead } = event.detail;
  document.querySelector("#status").textContent = `Thanks! Your request is graded ${lead.score.grade}.`;
});
