// React 19: <bantam-form> is a custom element, so React sets `config` as a property (an object,
// not an attribute) and the effect listens for Bantam's events on the element.
import { StrictMode, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import "bantam-form";
// The same file is in the collector's forms folder, so it checks and re-scores these leads.
import signup from "../forms/app-signup.json";

function SignupForm({ onLead }) {
  const ref = useRef(null);
  useEffect(() => {
    const element = ref.current;
    const submitted = (event) => onLead(event.detail.lead);
    element.addEventListener("bantam:submit", submitted);
    return () => element.removeEventListener("bantam:submit", submitted);
  }, [onLead]);
  return <bantam-form ref={ref} config={signup} variant="react-example" />;
}

function App() {
  const [lead, setLead] = useState(null);
  const [open, setOpen] = useState(true);
  return (
    <main>
      <h1>Start your trial</h1>
      <button type="button" onClick={() => setOpen(!open)}>{open ? "Hide the form" : "Show the form"}</button>
      {open && <SignupForm onLead={setLead} />}
      <p role="status">{lead ? `Thanks! Your request is graded ${lead.score.grade}.` : ""}</p>
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
