import { useServiceInfoQuery } from "@aopay-graphql/client/react";
import { GRAPHQL_URL } from "./apollo";
import { AepsResendForm } from "./AepsResendForm";
import { CibilOtpForm } from "./CibilOtpForm";

/** The server's upstream. LIVE is any host AOPAY_BASE_URL names, `npm run simulator` too: see docs/simulator.md. */
export function App() {
  const { data, error } = useServiceInfoQuery();
  const upstream = data?.serviceInfo?.upstream;
  return (
    <main>
      <header>
        <h1>AOPay OTP: example app</h1>
        <p className="server" data-testid="server">
          {GRAPHQL_URL} ·{" "}
          {error
            ? "server unreachable"
            : upstream === "SIMULATOR"
              ? "AOPay simulator"
              : upstream === "LIVE"
                ? "AOPay at AOPAY_BASE_URL, or a stand-in"
                : "connecting…"}
        </p>
      </header>
      <CibilOtpForm />
      <AepsResendForm />
    </main>
  );
}
