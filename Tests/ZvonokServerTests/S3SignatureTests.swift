import Foundation
import Testing

@testable import ZvonokServer

/// The S3 back end's request signing, checked against AWS's own worked example (Signature Version 4, "GET Object"):
/// moto does not check signatures, real S3 and its compatible services do.
@Suite struct S3SignatureTests {
    @Test func theWorkedExampleOfAWSIsSignedAlike() {
        let signature = S3Signature(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signature.headers(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: ["range": "bytes=0-9"],
            payloadHash: S3Signature.emptyPayloadHash, at: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = headers.first { $0.0 == "authorization" }?.1
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        #expect(headers.first { $0.0 == "x-amz-date" }?.1 == "20130524T000000Z")
    }
}
