import type { CreditHistoryFieldsFragment } from "@aopay-graphql/client/react";

type CibilCreditHistory = Extract<CreditHistoryFieldsFragment, { __typename: "CibilCreditHistory" }>;

/**
 * The customer's credit report, as the server hands it over: AOPay's payload as received. AOPay does not document its
 * shape, so the app shows it as it is instead of guessing at fields; the only typed field is `scoreFetchDate`. The
 * built-in simulator's sample says so itself (`simulated: true`), and the app repeats it where a reader looks first.
 *
 * It is the customer's credit file: the app keeps it in this component's state only (the mutation that brings it
 * runs with `fetchPolicy: "no-cache"`, the generated hooks' default, so Apollo's cache never holds it), and never
 * writes it to storage.
 */
export function CreditReport({ history }: { history: CibilCreditHistory }) {
  const report = history.report;
  const simulated = report?.simulated === true;
  return (
    <div className="report" data-testid="credit-history">
      <dl>
        <dt>Order</dt>
        <dd>{history.orderId}</dd>
        <dt>Score fetched</dt>
        <dd data-testid="score-fetch-date">{history.scoreFetchDate ?? "AOPay did not say"}</dd>
      </dl>
      {report === null ? (
        <p>AOPay answered without a report.</p>
      ) : (
        <>
          <p className={simulated ? "notice failure" : undefined} data-testid="report-label">
            {simulated
              ? "Sample report from the AOPay simulator: every field in it is the simulator's invention."
              : "AOPay's report as received (AOPay does not document its shape)."}
          </p>
          <pre data-testid="credit-report">{JSON.stringify(report, null, 2)}</pre>
        </>
      )}
    </div>
  );
}
