using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class KubernetesClusterOptionsValidatorTests
{
    private static GatewayOptions WithElection(Action<LeaderElectionOptions> change)
    {
        var options = new GatewayOptions
        {
            Services = [new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] }] }],
        };
        options.Kubernetes.LeaderElection.Enabled = true;
        change(options.Kubernetes.LeaderElection);
        return options;
    }

    [Fact]
    public void Load_KubernetesSection_BindsClientAndElection()
    {
        var kubeconfig = Path.GetTempFileName();
        using var cleanup = new TemporaryFile(kubeconfig);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Models:0"] = "qwen",
            ["Gateway:Services:0:Pools:0:Name"] = "on-prem",
            ["Gateway:Services:0:Pools:0:Static:0"] = "http://10.0.0.1:8000",
            ["Gateway:Kubernetes:Kubeconfig"] = kubeconfig,
            ["Gateway:Kubernetes:Context"] = "ack-prod",
            ["Gateway:Kubernetes:LeaderElection:Enabled"] = "true",
            ["Gateway:Kubernetes:LeaderElection:LeaseName"] = "qwen-gateway",
        }).Build();

        var kubernetes = GatewayConfiguration.Load(configuration).Kubernetes;

        var election = kubernetes.LeaderElection;
        Assert.Equal(
            (kubeconfig, "ack-prod", true, "", "qwen-gateway", "", 15, 10.0, 2.0),
            (kubernetes.Kubeconfig, kubernetes.Context, election.Enabled, election.Namespace, election.LeaseName, election.Identity,
                election.LeaseDurationSeconds, election.RenewDeadlineSeconds, election.RetryPeriodSeconds));
    }

    [Fact]
    public void Load_MisspeltElectionKey_ThrowsNamingItsPath()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Kubernetes:LeaderElection:LeaseDuration"] = "15",
        }).Build();

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.StartsWith("Gateway:Kubernetes:LeaderElection:LeaseDuration: unknown setting (known here: Enabled, Namespace, LeaseName, ", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DefaultElectionEnabled_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithElection(_ => { })));
    }

    [Fact]
    public void Check_ElectionDisabled_IgnoresItsValues()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithElection(e =>
        {
            e.Enabled = false;
            e.LeaseName = "";
            e.LeaseDurationSeconds = 0;
        })));
    }

    [Fact]
    public void Check_LeaseNameNotADnsName_NamesLeaseName()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:LeaseName: must be a DNS subdomain (lower-case letters, digits, '-', '.'), got 'Gateway_Leader'"],
            GatewayOptionsValidator.Check(WithElection(e => e.LeaseName = "Gateway_Leader")));
    }

    [Fact]
    public void Check_NamespaceNotAName_NamesNamespace()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:Namespace: must be empty (the gateway's own namespace) or a namespace name, got 'Gateways'"],
            GatewayOptionsValidator.Check(WithElection(e => e.Namespace = "Gateways")));
    }

    [Fact]
    public void Check_NamespaceWithADot_NamesNamespace()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:Namespace: must be empty (the gateway's own namespace) or a namespace name, got 'gateways.prod'"],
            GatewayOptionsValidator.Check(WithElection(e => e.Namespace = "gateways.prod")));
    }

    [Fact]
    public void Check_KubeconfigMissing_NamesKubeconfig()
    {
        var options = WithElection(e => e.Enabled = false);
        options.Kubernetes.Kubeconfig = "/nonexistent/kubeconfig";

        Assert.Equal(["Gateway:Kubernetes:Kubeconfig: file '/nonexistent/kubeconfig' does not exist"], GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_LeaseDurationZero_NamesLeaseDuration()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:LeaseDurationSeconds: must be between 1 and 3600, got 0"],
            GatewayOptionsValidator.Check(WithElection(e => e.LeaseDurationSeconds = 0)));
    }

    [Fact]
    public void Check_RetryPeriodNotPositive_NamesRetryPeriod()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:RetryPeriodSeconds: must be a positive number of seconds, got -1"],
            GatewayOptionsValidator.Check(WithElection(e => e.RetryPeriodSeconds = -1)));
    }

    [Fact]
    public void Check_RenewDeadlineNotBelowLeaseDuration_NamesRenewDeadline()
    {
        // A leader that renews for as long as its lease lasts could still be scaling when another takes over.
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:RenewDeadlineSeconds: must be less than LeaseDurationSeconds (15), got 15"],
            GatewayOptionsValidator.Check(WithElection(e => e.RenewDeadlineSeconds = 15)));
    }

    [Fact]
    public void Check_RenewDeadlineWithinOneRetry_NamesRenewDeadline()
    {
        Assert.Equal(
            ["Gateway:Kubernetes:LeaderElection:RenewDeadlineSeconds: must be more than 1.2 × RetryPeriodSeconds (6), got 5"],
            GatewayOptionsValidator.Check(WithElection(e =>
            {
                e.RenewDeadlineSeconds = 5;
                e.RetryPeriodSeconds = 5;
            })));
    }

    private sealed class TemporaryFile(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }
}
