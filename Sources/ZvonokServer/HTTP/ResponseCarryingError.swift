import Hummingbird

/// An error that writes its own response, more than the contract's plain error body (`RosterRejection` adds the
/// refused rows beside it). `ErrorMiddleware` lets it pass untouched, and Hummingbird answers with the error's
/// `response(from:context:)`; so the middleware needs to know no route's errors.
protocol ResponseCarryingError: HTTPResponseError {}
