// Vue 3: the app's compiler is told that <bantam-form> is a custom element (see
// examples/build.mjs: `isCustomElement`), so Vue leaves it to the browser.
import { createApp } from "vue";
import "bantam-form";
import QuoteForm from "./QuoteForm.vue";

createApp(QuoteForm).mount("#app");
