using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Forwarding;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Forwarding;

public sealed class AdmissionErrorsTests
{
    [Fact]
    public void For_Shed_Is503ShedWithTheQueuesRetryAfter()
    {
        var service = OnePool(1, queue: new QueueOptions { RetryAfterSeconds = 7 });

        var error = AdmissionErrors.For(service.Queue, AdmissionFailure.Shed);

        Assert.NotNull(error);
        Assert.Equal((503, "server_error", "shed", 7), (error.StatusCode, error.Type, error.Code, error.RetryAfterSeconds));
    }
}
