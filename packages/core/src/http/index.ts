export {
  problemResponse,
  unavailableProblem,
  PROBLEM_TYPES,
  type ProblemDetails,
  type PlainResponse,
} from './problem';
export { expressRouteTemplate, expressTrustProxy } from './express-platform';
export {
  captureResponse,
  headerPairs,
  type CapturedResponse,
  type CaptureOptions,
  type CaptureAbandonReason,
} from './response-capture';
