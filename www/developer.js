// The developer demo: mount with the module API and log every event.
import { mount } from "./dist/bantam.js";

const host = document.getElementById("form-host");
const log = document.getElementById("log");
// The same config file the collector checks this form's leads against.
const options = { configUrl: "forms/developer-demo.json" };

for (const name of ["ready", "step", "scored", "submit", "delivered", "error"]) {
  host.addEventListener(`bantam:${name}`, (event) => {
    const item = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = event.type;
    const detail = document.createElement("pre");
    detail.textContent = JSON.stringify(event.detail, null, 2);
    item.append(title, detail);
    log.prepend(item);
  });
}

let form = await mount(host, options);
document.getElementById("remount").addEventListener("click", async () => {
  form.destroy();
  form = await mount(host, options);
});
