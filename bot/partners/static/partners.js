// GOV.UK Frontend's behaviour (error summary focus, character counts...) on every page.
import { initAll } from "/assets/govuk-frontend.min.js";

initAll();
