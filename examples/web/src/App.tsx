import { useServiceInfoQuery } from "@aopay-graphql/client/react";
import { GRAPHQL_URL } from "./apollo";
import { AepsResendForm } from "./AepsResendForm";
import { CibilOtpForm } from "./CibilOtpForm";

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
                ? "live AOPay"
                : "connecting…"}
        </p>
      </header>
      <CibilOtpForm />
      <AepsResendForm />
    </main>
  );
}
