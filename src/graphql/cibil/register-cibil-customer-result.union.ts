import { createUnionType } from "type-graphql";
import { WRITE_FAILURES } from "../failures/failure.types";
import { CibilCustomerRegistered } from "./cibil-customer-registered.type";

/** Every member, for idempotent replay. */
export const REGISTER_CIBIL_CUSTOMER_RESULT_TYPES = [CibilCustomerRegistered, ...WRITE_FAILURES] as const;

export const RegisterCibilCustomerResult = createUnionType({
  name: "RegisterCibilCustomerResult",
  description: "The registration on success, or a typed failure.",
  types: () => REGISTER_CIBIL_CUSTOMER_RESULT_TYPES,
});
