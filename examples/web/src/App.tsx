import { type UpstreamMode, useServiceInfoQuery } from "@aopay-graphql/client/react";
import { GRAPHQL_URL } from "./apollo";
import { AepsResendForm } from "./AepsResendForm";
import { CibilOtpForm } from "./CibilOtpForm";

/**
 * The server's upstream. LIVE is any host AOPAY_BASE_URL names, `npm run simulator` too: see docs/simulator.md.
 * Exhaustive: a value the schema gains makes the `never` below a compile error until it has its words here, and one
 * a newer server sends to this build is shown as sent (it read "connecting…" for good).
 */
function upstreamLabel(upstream: UpstreamMode): string {
  switch (upstream) {
    case "SIMULATOR":
      return "AOPay simulator";
    case "LIVE":
      return "AOPay at AOPAY_BASE_URL, or a stand-in";
    default: {
      const unknown: never = upstream;
      return `upstream ${String(unknown)}`;
    }
  }
}

export function App() {
  const { data, error } = useServiceInfoQuery();
  const upstream = data?.serviceInfo?.upstream;
  return (
    <main>
      <header>
        <h1>AOPay OTP: example app</h1>
        <p className="server" data-testid="server">
          {GRAPHQL_URL} ·{" "}
          {error ? "server unreachable" : upstream === undefined ? "connecting…" : upstreamLabel(upstream)}
        </p>
      </header>
      <CibilOtpForm />
      <AepsResendForm />
    </main>
  );
}
