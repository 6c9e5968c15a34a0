// An inline config of N single-choice questions (N from `?n=`), then the embed script, as a
// marketer's page would have them: start-up must grow linearly with the size of the form.
const n = Number(new URLSearchParams(location.search).get("n") || 10);
const questions = [];
for (let i = 0; i < n; i++) {
  questions.push({
    id: `q${i}`,
    kind: "singleChoice",
    label: `Question ${i}`,
    options: [
      { id: "a", label: "A", points: 1 },
      { id: "b", label: "B" },
    ],
  });
}
const config = document.createElement("script");
config.type = "application/json";
config.id = "config";
config.textContent = JSON.stringify({ formId: "scale", questions });
document.body.appendChild(config);
const embed = document.createElement("script");
embed.src = "../dist/embed.js";
embed.dataset.target = "#form";
embed.dataset.config = "#config";
document.body.appendChild(embed);
