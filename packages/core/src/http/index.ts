export {
  problemResponse,
  unavailableProblem,
  PROBLEM_TYPES,
  type ProblemDetails,
  type PlainResponse,
} from './problem';
export {
  captureResponse,
  headerPairs,
  type CapturedResponse,
  type CaptureOptions,
  type CaptureAbandonReason,
} from './response-capture';
