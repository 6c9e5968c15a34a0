// The same BANT form Bantam's preset shows on a first visit (six questions, three a page,
// progress bar, required answers), as a SurveyJS model.
const survey = new Survey.Model({
  showProgressBar: "top",
  progressBarType: "pages",
  completeText: "Send",
  pages: [
    {
      elements: [
        { type: "text", inputType: "email", name: "email", title: "Work email", isRequired: true, validators: [{ type: "email" }] },
        { type: "text", name: "company", title: "Company", isRequired: true },
        { type: "radiogroup", name: "budget", title: "What budget have you set aside for this?", description: "A rough range is fine.", isRequired: true,
          choices: [
            { value: "none", text: "No budget yet" }, { value: "under-10k", text: "Under $10k" },
            { value: "10k-50k", text: "$10k–$50k" }, { value: "50k-250k", text: "$50k–$250k" },
            { value: "over-250k", text: "Over $250k" },
          ] },
      ],
    },
    {
      elements: [
        { type: "radiogroup", name: "role", title: "What is your role in the decision?", isRequired: true,
          choices: [
            { value: "decision-maker", text: "I make the decision" }, { value: "influencer", text: "I recommend; someone else signs" },
            { value: "researcher", text: "I'm researching for my team" }, { value: "student", text: "I'm a student" },
          ] },
        { type: "radiogroup", name: "timeframe", title: "When do you plan to decide?", isRequired: true,
          choices: [
            { value: "this-month", text: "This month" }, { value: "this-quarter", text: "Within 3 months" },
            { value: "this-half", text: "Within 6 months" }, { value: "later", text: "Later than that" },
            { value: "no-plan", text: "No plans yet" },
          ] },
        { type: "boolean", renderAs: "checkbox", name: "consent", isRequired: true,
          title: "I agree that you may contact me about my request. You can withdraw at any time." },
      ],
    },
  ],
});
survey.onAfterRenderSurvey.add(() => window.__probeDone());
SurveyUI.renderSurvey(survey, document.getElementById("form"));
