import { scenarioFor } from "./scenarios";

/**
 * Where the simulator's opaque ids come from: values AOPay generates and a client can only copy, never derive
 * (merchant_trans_id, GenerateOTP's question Key and AnswerChoiceId, a new customer's CIBIL id). By default they are
 * deterministic and say they are simulated (`SIMCBL…`, ids from 700000001 in call order). A test may pass its own
 * (SimulatorOptions.ids) to make an answer byte-for-byte one of AOPay's documented examples
 * (test/e2e/simulator-contract.test.ts); everything else in an answer comes from the customer's state.
 */
export interface SimIds {
  /** A newly registered customer's CIBIL id. Must not end in a scenario trigger (scenarios.ts). */
  cibilId(): string;
  /** `merchant_trans_id` of a CIBIL success answer; `sequence` is the request's number (1, 2, 3 …). */
  merchantTransactionId(sequence: number): string;
  /** GenerateOTP `questions.Key`. */
  questionKey(sequence: number): string;
  /** GenerateOTP `questions.AnswerChoice.AnswerChoiceId`. */
  answerChoiceId(sequence: number): string;
}

/** The first CIBIL id a fresh simulator assigns (the README walkthrough starts from it). */
export const FIRST_SIM_CIBIL_ID = 700_000_001;

export function defaultIds(): SimIds {
  let next = FIRST_SIM_CIBIL_ID;
  return {
    cibilId() {
      let id = String(next++);
      // Never hand out an id whose last digits would trigger a failure scenario on the customer's next calls.
      while (scenarioFor(id).name !== "success") id = String(next++);
      return id;
    },
    merchantTransactionId: (sequence) => `SIMCBL${String(sequence).padStart(12, "0")}`,
    // Near the documented example's values (Key 1423489238, AnswerChoiceId 4220112750), one step per request.
    questionKey: (sequence) => String(1423489238 + sequence),
    answerChoiceId: (sequence) => String(4220112750 + sequence),
  };
}
