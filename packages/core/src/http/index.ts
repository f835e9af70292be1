export {
  problemResponse,
  unavailableProblem,
  PROBLEM_TYPES,
  type ProblemDetails,
  type PlainResponse,
} from './problem';
